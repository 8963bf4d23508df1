-- The sum of five neighbouring elements of a list, from the element at position `first` (counted
-- from 1, as DuckDB counts list positions) to the one at first + 4. For a quantile read as the mean
-- of the 5 values around it from a sorted list (holder_spend_by_site); the caller keeps
-- first + 4 within the list.
-- Used as sum_of_five(values, first).
create macro sum_of_five(values, first) as
    list_extract(values, first) + list_extract(values, first + 1) + list_extract(values, first + 2)
    + list_extract(values, first + 3) + list_extract(values, first + 4)
