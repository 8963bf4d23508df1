-- The reference for queries/spend_over_time.sql (tests/test_queries.py): the same figures from every
-- spending line one by one (spend_in_selection_by_line, tests/reference/), person by person for every period.
-- This was the dashboard's own query until whole periods came from spend_cells; it is kept here only so the
-- tests can check that the two agree.
-- Spending by category and month or quarter paid, for the selection, with what disclosure control
-- needs over the people paid in each (per-person net sums within the row): `people`, `top1` and
-- `top2` (the two largest absolute contributions, 0 where there are fewer) and `mkey` (the sum of
-- their record keys modulo 256); category null is every category together. Refunds and
-- recoveries are netted here and shown apart elsewhere.
-- Parameters: $grain ('month' or 'quarter'), $sites (list or null), $date_from, $date_to (date),
-- $management (list or null).
-- Sources: spend_lines and spend_person_months (built at load), through the macro spend_in_selection
-- (queries/macros/).
with lines as (
    select
        cast(date_trunc($grain, paid_on) as date) as period_start,
        category,
        person_key,
        record_key,
        amount_gbp
    from spend_in_selection_by_line($date_from, $date_to, $sites, $management)
),

per_person as (
    select
        grouping(period_start) * 2 + grouping(category) as level,
        period_start,
        category,
        person_key,
        any_value(record_key) as record_key,
        sum(amount_gbp) as net_gbp
    from lines
    group by grouping sets ((period_start, category, person_key), (period_start, person_key))
),

final as (
    select
        period_start,
        category,
        sum(net_gbp) as net_gbp,
        count(*) as people,
        coalesce(max(abs(net_gbp), 2)[1], 0) as top1,
        coalesce(max(abs(net_gbp), 2)[2], 0) as top2,
        cast(sum(record_key) % 256 as integer) as mkey
    from per_person
    group by level, period_start, category
)

select * from final
order by period_start, category nulls last
