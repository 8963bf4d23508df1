-- Budgets in place at the end of each month of the period, by site (and on the period's last
-- day for its final, possibly part, month).
-- `<count>_ckey` is the cell key of each count: the sum of the record keys of exactly the records
-- counted, mod 256 (0 for none), for cell key perturbation (phb/disclosure.py).
-- In place on a day: started on or before it, not ended on or before it. Counted with running sums,
-- not a row per budget and month: each budget adds one (and its record key) from the first month end
-- on or after its start and takes it away from the first on or after its end.
-- Parameters: $sites (list or null), $date_from, $date_to (date), $management (list or null).
-- Sources: at_risk_spans (built at load; a budget holder's span is their budget's start and end).
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
        site_code,
        starts_on as budget_start,
        ends_before as budget_end,
        record_key
    from at_risk_spans
    where grp = 'budget_holders'
        and starts_on is not null
        and in_selection(site_code, $sites)
        and in_selection(management_option, $management)
),

changes as (
    -- a start or an end, at the first month end on or after it (the first month end for earlier ones)
    select
        site_code,
        greatest(
            least(cast(date_trunc('month', on_day) + interval 1 month - interval 1 day as date), $date_to::date),
            (select min(on_date) from month_ends)
        ) as on_date,
        change,
        key_change
    from (
        select site_code, budget_start as on_day, 1 as change, record_key as key_change
        from holders
        union all
        select site_code, budget_end as on_day, -1 as change, -record_key as key_change
        from holders
        where budget_end is not null
    ) as c
    where on_day <= $date_to::date
),

running as (
    select
        m.on_date,
        s.site_code,
        sum(coalesce(c.change, 0)) over w as budgets_in_place,
        sum(coalesce(c.key_change, 0)) over w as keys
    from month_ends as m
    cross join (select distinct site_code from holders) as s
    left join (
        select site_code, on_date, sum(change) as change, sum(key_change) as key_change
        from changes
        group by site_code, on_date
    ) as c on c.on_date = m.on_date and c.site_code = s.site_code
    window w as (partition by s.site_code order by m.on_date rows between unbounded preceding and current row)
),

final as (
    select
        on_date,
        site_code,
        budgets_in_place,
        cast(keys % 256 as integer) as budgets_in_place_ckey
    from running
    where budgets_in_place > 0
)

select * from final
order by on_date, site_code
