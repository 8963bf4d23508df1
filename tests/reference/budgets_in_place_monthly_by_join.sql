-- The reference for queries/budgets_in_place_monthly.sql (tests/test_queries.py): the same counts worked
-- out the plain way, each budget joined to each month end it is in place on. This was the dashboard's own
-- query until the running-sum version replaced it, and is kept here only so the tests can check the two agree.
-- Budgets in place at the end of each month of the period, by site (and on the period's last
-- day for its final, possibly part, month).
-- `<count>_ckey` is the cell key of each count: the sum of the record keys of exactly the records
-- counted, mod 256 (0 for none), for cell key perturbation (phb/disclosure.py).
-- Parameters: $sites (list or null), $date_from, $date_to (date), $management (list or null).
-- Sources: people, person_keys (built at load).
with month_ends as (
    select least(cast(m + interval 1 month - interval 1 day as date), $date_to::date) as on_date
    from (
        -- the first day of each month from $date_from's month to $date_to's
        select unnest(generate_series(cast(date_trunc('month', $date_from::date) as date), $date_to::date, interval 1 month))
            as m
    ) as t
),

holders as (
    select
        p.site_code,
        p.budget_start,
        p.budget_end,
        k.record_key
    from people as p
    inner join person_keys as k on k.person_id = p.person_id
    where outcome = 'budget_in_place'
        and in_selection(site_code, $sites)
        and in_selection(management_option, $management)
),

final as (
    select
        m.on_date,
        h.site_code,
        count(*) as budgets_in_place,
        cast(sum(h.record_key) % 256 as integer) as budgets_in_place_ckey
    from month_ends as m
    inner join holders as h
        on h.budget_start <= m.on_date and (h.budget_end is null or h.budget_end > m.on_date)
    group by m.on_date, h.site_code
)

select * from final
order by on_date, site_code
