"""What the post-case checks feed into the peer review: a quality profile per lawyer and agency showing each
source beside the others with its count, each agency's leniency (self-score minus calibrated peer score), the
annual report's post-case section, and a risk-weighted sample with recorded inclusion probabilities."""
