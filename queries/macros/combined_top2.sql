-- The second largest of people's contributions (absolute per-person sums) when they come split over
-- rows that each hold their own people's two largest, top1 and top2 (0 where fewer), each person in
-- one row only: the larger of the largest row's second and the second largest of the rows' largest.
-- The largest is max(top1). For the dominance rule, which needs the two largest, where cells are
-- combined instead of worked out from each person again.
-- An aggregate, used as combined_top2(top1, top2) over the rows being combined.
create macro combined_top2(top1, top2) as greatest(max(top2), coalesce(max(top1, 2)[2], 0))
