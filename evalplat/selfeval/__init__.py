"""Quality evaluation of every closed case (一案一评): the agency's own short evaluation at closing, with the
handling authority's feedback (征询办案机关意见) attached when it has one. Always labelled as the agency's own
view; compared with the peer review on sampled cases (see evalplat.quality)."""
