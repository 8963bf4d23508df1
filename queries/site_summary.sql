-- One row per selected site: plan, eligible population, people referred and offered in the
-- period, budgets in place on the last day of the period and at the site's pilot end.
-- `<count>_ckey` is the cell key of each count: the sum of the record keys of exactly the records
-- counted, mod 256 (0 for none), for cell key perturbation (phb/disclosure.py).
-- Parameters: $sites (list of site codes, null for all), $date_from, $date_to (date),
-- $management (list of management options, null for all; applies to budgets only).
-- Sources: sites, people_keyed (built at load).
with selected_sites as (
    select *
    from sites
    where in_selection(site_code, $sites)
),

pathway as (
    select
        p.site_code,
        count(*) filter (where p.referred_on between $date_from and $date_to) as referred,
        cast(coalesce(sum(record_key) filter (where p.referred_on between $date_from and $date_to), 0) % 256 as integer) as referred_ckey,
        count(*) filter (where p.offered_on between $date_from and $date_to) as offered,
        cast(coalesce(sum(record_key) filter (where p.offered_on between $date_from and $date_to), 0) % 256 as integer) as offered_ckey
    from people_keyed as p
    where p.arm = 'phb'
        and in_selection(p.site_code, $sites)
    group by p.site_code
),

holders as (
    select
        p.site_code,
        p.budget_start,
        p.budget_end,
        s.pilot_end,
        p.record_key
    from people_keyed as p
    inner join sites as s on s.site_code = p.site_code
    where p.outcome = 'budget_in_place'
        and in_selection(p.site_code, $sites)
        and in_selection(p.management_option, $management)
),

budgets as (
    select
        site_code,
        -- in place on a date: started on or before it, not ended on or before it
        count(*) filter (
            where budget_start <= $date_to and (budget_end is null or budget_end > $date_to)
        ) as budgets_in_place,
        cast(coalesce(sum(record_key) filter (where budget_start <= $date_to and (budget_end is null or budget_end > $date_to)), 0) % 256 as integer)
            as budgets_in_place_ckey,
        count(*) filter (
            where budget_start <= least(pilot_end, $date_to::date)
                and (budget_end is null or budget_end > least(pilot_end, $date_to::date))
        ) as budgets_at_pilot_end,
        cast(coalesce(sum(record_key) filter (where budget_start <= least(pilot_end, $date_to::date) and (budget_end is null or budget_end > least(pilot_end, $date_to::date))), 0) % 256 as integer)
            as budgets_at_pilot_end_ckey
    from holders
    group by site_code
),

final as (
    select
        s.site_code,
        s.site_name,
        s.go_live,
        s.pilot_end,
        s.eligible_population,
        s.planned_budgets,
        coalesce(p.referred, 0) as referred,
        coalesce(p.referred_ckey, 0) as referred_ckey,
        coalesce(p.offered, 0) as offered,
        coalesce(p.offered_ckey, 0) as offered_ckey,
        coalesce(b.budgets_in_place, 0) as budgets_in_place,
        coalesce(b.budgets_in_place_ckey, 0) as budgets_in_place_ckey,
        coalesce(b.budgets_at_pilot_end, 0) as budgets_at_pilot_end,
        coalesce(b.budgets_at_pilot_end_ckey, 0) as budgets_at_pilot_end_ckey
    from selected_sites as s
    left join pathway as p on p.site_code = s.site_code
    left join budgets as b on b.site_code = s.site_code
)

select * from final
order by site_code
