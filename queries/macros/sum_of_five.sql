-- The sum of five neighbouring elements of a list, from the element at position `first` (counted
-- from 1, as DuckDB counts list positions) to the one at first + 4; null where any of them is past
-- the end. For a quantile read as the mean of the 5 values around it from a sorted list
-- (holder_spend_by_site, pathway_by_site), which use it only where the list holds 5 or more and
-- keep `first` at 1 or more (Spark refuses position 0, even in a branch whose result is not used).
-- Used as sum_of_five(values, first).
create macro sum_of_five(values, first) as
    list_extract(values, first) + list_extract(values, first + 1) + list_extract(values, first + 2)
    + list_extract(values, first + 3) + list_extract(values, first + 4)
