"""Explaining infeasible instances in words a person can act on.

Two passes.  Before solving, counting checks per case group (region, type): too few eligible reviewers or
evaluators for a case, with the reason (regional avoidance, case type, conflicts); capacity shortages overall,
for evaluators, per case group and per case type (Hall's condition on the obvious sets).  After a full
network turns out infeasible, the maximum flow's residual network yields a Hall violator: cases that together
need more reviews than all the reviewers who could take them have room for.
"""

from __future__ import annotations

import numpy as np

from evalplat.assignment.encode import Instance
from evalplat.assignment.model import Problem
from evalplat.assignment.network import Layout, Network

SHOW = 5


def _list(ids: tuple[str, ...]) -> str:
    shown = ", ".join(ids[:SHOW])
    return shown + (f" (+{len(ids) - SHOW})" if len(ids) > SHOW else "")


def _blocked_per_case(inst: Instance, eligible_by_group: list[np.ndarray], evaluators: bool) -> np.ndarray:
    """Per case: blocked pairs (conflicts, firm, lawyer, excluded, fixed) among its base-eligible reviewers."""
    n_r = inst.n_reviewers
    cases, reviewers = inst.blocked // max(n_r, 1), inst.blocked % max(n_r, 1)
    if cases.size == 0:
        return np.zeros(inst.n_cases, dtype=np.int64)
    groups = inst.group_of_case[cases]
    base = np.zeros(cases.size, dtype=bool)
    for g, mask in enumerate(eligible_by_group):
        sel = groups == g
        base[sel] = mask[reviewers[sel]]
    fixed = np.isin(inst.blocked, inst.fixed_codes)
    keep = base & ~fixed & (inst.rev_evaluator[reviewers] if evaluators else True)
    return np.bincount(cases[keep], minlength=inst.n_cases)


def precheck(inst: Instance, pair_probability: float | None) -> list[Problem]:
    """Counting checks that need no solve; an empty list means nothing obvious is wrong."""
    problems: list[Problem] = []
    rules = inst.rules
    room = np.maximum(inst.capacity - inst.load0, 0)
    eligible_by_group = [inst.base_eligible(g) for g in range(len(inst.groups))]
    blocked_all = _blocked_per_case(inst, eligible_by_group, evaluators=False)
    blocked_eval = _blocked_per_case(inst, eligible_by_group, evaluators=True)
    peer_slots = inst.need - inst.need_eval
    for g, mask in enumerate(eligible_by_group):
        region, ctype = inst.groups[g]
        members = np.flatnonzero((inst.group_of_case == g) & (inst.need > 0))
        if members.size == 0:
            continue
        region_name, type_name = inst.region_names[region], inst.type_names[ctype]
        handles = inst.matched(np.int64(ctype), inst.rev_types)
        typed = handles if rules.case_type_match == "required" else np.ones(inst.n_reviewers, dtype=bool)
        typed_here = typed & (inst.rev_region == region) if rules.regional_avoidance else np.zeros_like(typed)
        full = typed & (room <= 0)
        # Reviewers usable per case: evaluators always, peers only where a peer slot is open.
        usable = np.where(peer_slots[members] > 0, mask.sum(), (mask & inst.rev_evaluator).sum())
        usable = usable - np.where(peer_slots[members] > 0, blocked_all[members], blocked_eval[members])
        need = inst.need[members]
        short = members[usable < need]
        if short.size:
            ids = tuple(inst.cases[i].id for i in short)
            conflicts = int(blocked_all[short].max())
            who = (f"reviewers who handle {type_name} cases" if rules.case_type_match == "required"
                   else "reviewers")
            who_zh = f"办理{type_name}案件的评估人员" if rules.case_type_match == "required" else "评估人员"
            parts_en = [f"of the {int(typed.sum())} {who}, {int(typed_here.sum())} are in {region_name} "
                        "(regional avoidance)"] if rules.regional_avoidance else [f"there are {int(typed.sum())} {who}"]
            parts_zh = [f"{int(typed.sum())} 名{who_zh}中有 {int(typed_here.sum())} 名在{region_name}（地区回避）"]
            if int(full.sum()):
                parts_en.append(f"{int(full.sum())} have no capacity left")
                parts_zh.append(f"{int(full.sum())} 名已无剩余承担量")
            if conflicts:
                parts_en.append(f"up to {conflicts} more have a conflict (same firm, handling lawyer or declared)")
                parts_zh.append(f"另有最多 {conflicts} 名存在利益冲突（同所、承办律师或申报回避）")
            if int(typed.sum()) and int(typed_here.sum()) == int(typed.sum()):
                parts_en[0] = f"all {int(typed.sum())} {who} are in {region_name}"
                parts_zh[0] = f"全部 {int(typed.sum())} 名{who_zh}都在{region_name}"
            problems.append(Problem(
                "not_enough_eligible", ids,
                {"region": region_name, "case_type": type_name, "needed": int(need.max()),
                 "eligible": int(usable[usable < need].min()), "handling_type": int(typed.sum()),
                 "same_region": int(typed_here.sum()), "conflicted": conflicts, "full": int(full.sum())},
                f"cases {_list(ids)} ({type_name}, {region_name}) need {int(need.max())} reviewers but only "
                f"{int(usable[usable < need].min())} are eligible: " + "; ".join(parts_en),
                f"案件 {_list(ids)}（{type_name}，{region_name}）需要 {int(need.max())} 名评估人员，"
                f"但只有 {int(usable[usable < need].min())} 名符合条件：" + "；".join(parts_zh)))
        evaluators = (mask & inst.rev_evaluator).sum() - blocked_eval[members]
        lacking = members[evaluators < inst.need_eval[members]]
        if lacking.size:
            ids = tuple(inst.cases[i].id for i in lacking)
            count = int(evaluators[evaluators < inst.need_eval[members]].min())
            total_eval = int(inst.rev_evaluator.sum())
            here = int((inst.rev_evaluator & (inst.rev_region == region)).sum()) if rules.regional_avoidance else 0
            problems.append(Problem(
                "not_enough_evaluators", ids,
                {"region": region_name, "case_type": type_name, "needed": int(inst.need_eval[lacking].max()),
                 "eligible": count, "evaluators": total_eval, "same_region": here},
                f"cases {_list(ids)} ({type_name}, {region_name}) need {int(inst.need_eval[lacking].max())} "
                f"third-party evaluators but only {count} are eligible ({total_eval} evaluators in the pool, "
                f"{here} of them in {region_name})",
                f"案件 {_list(ids)}（{type_name}，{region_name}）需要 {int(inst.need_eval[lacking].max())} 名第三方"
                f"评估人员，但只有 {count} 名符合条件（库中共 {total_eval} 名，其中 {here} 名在{region_name}）"))
        if pair_probability is not None:
            capped = members[(usable * pair_probability < need - 1e-9)
                             | (evaluators * pair_probability < inst.need_eval[members] - 1e-9)]
            capped = capped[~np.isin(capped, short)]
            if capped.size:
                ids = tuple(inst.cases[i].id for i in capped)
                problems.append(Problem(
                    "pair_cap_too_low", ids, {"q": pair_probability, "needed": int(need.max())},
                    f"cases {_list(ids)} ({type_name}, {region_name}) have too few eligible reviewers for a pair "
                    f"probability cap of {pair_probability}: {int(need.max())} reviewers need at least "
                    f"{int(np.ceil(need.max() / pair_probability))} eligible (evaluators likewise for "
                    "the evaluator places)",
                    f"案件 {_list(ids)}（{type_name}，{region_name}）的合格评估人员不足以满足单对概率上限 "
                    f"{pair_probability}：每案 {int(need.max())} 人至少需要 "
                    f"{int(np.ceil(need.max() / pair_probability))} 名合格人员（第三方评估名额同理）"))
        # Hall's condition on the whole group: its cases need more than its reviewers can give.
        demand = int(need.sum())
        supply = int(np.minimum(room[mask], members.size).sum())
        if not short.size and demand > supply:
            ids = tuple(inst.cases[i].id for i in members.tolist())
            problems.append(Problem(
                "capacity_shortage", ids,
                {"region": region_name, "case_type": type_name, "demand": demand, "capacity": supply,
                 "reviewers": int(mask.sum())},
                f"the {members.size} {type_name} cases from {region_name} need {demand} reviews but the "
                f"{int(mask.sum())} reviewers eligible for them can take only {supply}",
                f"{region_name}的 {members.size} 件{type_name}案件需要 {demand} 人次评估，但符合条件的 "
                f"{int(mask.sum())} 名评估人员最多只能承担 {supply} 件"))
    demand, supply = int(inst.need.sum()), int(room.sum())
    if demand > supply:
        problems.append(Problem(
            "capacity_shortage", tuple(c.id for c in inst.cases), {"demand": demand, "capacity": supply},
            f"all cases together need {demand} reviews but the pool's remaining capacity is {supply}",
            f"全部案件共需 {demand} 人次评估，而评估人员库剩余承担量只有 {supply}"))
    demand_eval, supply_eval = int(inst.need_eval.sum()), int(room[inst.rev_evaluator].sum())
    if demand_eval > supply_eval:
        problems.append(Problem(
            "evaluator_capacity_shortage", tuple(c.id for c, n in zip(inst.cases, inst.need_eval, strict=True) if n),
            {"demand": demand_eval, "capacity": supply_eval},
            f"cases need {demand_eval} third-party evaluations but evaluators can take only {supply_eval}",
            f"案件共需 {demand_eval} 人次第三方评估，而第三方评估人员最多只能承担 {supply_eval} 件"))
    if rules.case_type_match == "required":
        for t, name in enumerate(inst.type_names):
            cases = np.flatnonzero((inst.case_type == t) & (inst.need > 0))
            handles = inst.matched(np.int64(t), inst.rev_types)
            type_need, cap = int(inst.need[cases].sum()), int(np.minimum(room[handles], cases.size).sum())
            if cases.size and type_need > cap:
                ids = tuple(inst.cases[i].id for i in cases.tolist())
                problems.append(Problem(
                    "capacity_shortage", ids, {"case_type": name, "demand": type_need, "capacity": cap,
                                               "reviewers": int(handles.sum())},
                    f"the {cases.size} {name} cases need {type_need} reviews but the {int(handles.sum())} reviewers "
                    f"who handle {name} cases can take only {cap}",
                    f"{cases.size} 件{name}案件需要 {type_need} 人次评估，但办理{name}案件的 {int(handles.sum())} 名"
                    f"评估人员最多只能承担 {cap} 件"))
    return problems


def hall_violator(inst: Instance, lay: Layout, net: Network, flows: np.ndarray, unit: int) -> list[Problem]:
    """Explain a full network's infeasibility from a maximum flow: an over-demanded set of cases.

    From every case node whose supply was not routed, walk the residual network; the cases reached need more
    than the reviewers reached (all full) can give.  Those reviewers are the only ones who could take them.
    """
    out = np.bincount(net.tails, weights=flows, minlength=net.n_nodes) - np.bincount(
        net.heads, weights=flows, minlength=net.n_nodes)
    short = np.flatnonzero((net.supplies > 0) & (out < net.supplies))
    fwd = flows < net.caps
    bwd = flows > 0
    adj_t = np.concatenate([net.tails[fwd], net.heads[bwd]])
    adj_h = np.concatenate([net.heads[fwd], net.tails[bwd]])
    order = np.argsort(adj_t, kind="stable")
    adj_t, adj_h = adj_t[order], adj_h[order]
    starts = np.searchsorted(adj_t, np.arange(net.n_nodes + 1))
    seen = np.zeros(net.n_nodes, dtype=bool)
    seen[short] = True
    stack = short.tolist()
    while stack:
        node = stack.pop()
        for nxt in adj_h[starts[node]:starts[node + 1]].tolist():
            if not seen[nxt]:
                seen[nxt] = True
                stack.append(nxt)
    case_nodes = np.flatnonzero(seen[: inst.n_cases])
    # Split side nodes belong to their case.
    side = np.flatnonzero(seen[lay.split_eval] | seen[lay.split_peer])
    case_nodes = np.unique(np.concatenate([case_nodes, lay.split_cases[side]]))
    reviewers = np.flatnonzero(seen[lay.reviewer_base: lay.reviewer_base + inst.n_reviewers])
    missing = int(np.ceil((net.supplies[short] - out[short]).sum() / unit))
    ids = tuple(inst.cases[i].id for i in case_nodes.tolist())
    room = int(np.maximum(inst.capacity - inst.load0, 0)[reviewers].sum())
    regions = sorted({inst.region_names[r] for r in inst.rev_region[reviewers].tolist()})
    return [Problem(
        "capacity_shortage", ids,
        {"demand": int(inst.need[case_nodes].sum()), "capacity": room, "reviewers": int(reviewers.size),
         "missing": missing, "reviewer_regions": regions},
        f"cases {_list(ids)} ({len(ids)} cases) need {int(inst.need[case_nodes].sum())} reviews, but the only "
        f"{reviewers.size} reviewers who may take them (in {', '.join(regions[:6]) or '-'}) can take "
        f"{room}; {missing} reviews cannot be placed — add reviewers from other regions or raise capacities",
        f"案件 {_list(ids)}（共 {len(ids)} 件）需要 {int(inst.need[case_nodes].sum())} 人次评估，而可评估它们的 "
        f"{reviewers.size} 名评估人员（{'、'.join(regions[:6]) or '-'}）只能承担 {room} 件，"
        f"尚有 {missing} 人次无法分配——请增加其他地区的评估人员或提高承担量")]

