-- Budget holders' emergency admissions and person-years in the 12 months after the index date,
-- by site and age band, for holders whose index date falls in the period: the inputs to an
-- indirectly standardised ratio per site (observed against expected at all-sites rates by age).
-- `<count>_ckey` is the cell key of each count: the sum of the record keys of exactly the records
-- counted, mod 256 (0 for none), for cell key perturbation (phb/disclosure.py).
-- Parameters: $sites (list or null), $date_from, $date_to (date), $management (list or null).
-- Sources: person_windows (built at load), people.
with holders as (
    select
        w.site_code,
        p.age_band,
        w.record_key,
        w.emergency_post,
        w.emergency_post_keys,
        w.days_post
    from person_windows as w
    inner join people as p on p.person_id = w.person_id
    where w.grp = 'budget_holders'
        and w.index_date between $date_from and $date_to
        and in_selection(w.site_code, $sites)
        and in_selection(w.management_option, $management)
),

final as (
    select
        site_code,
        age_band,
        count(*) as holders,
        cast(sum(record_key) % 256 as integer) as holders_ckey,
        sum(emergency_post) as admissions,
        cast(sum(emergency_post_keys) % 256 as integer) as admissions_ckey,
        -- whole days added (exact in any order, so the same on every run), then made person-years once
        cast(sum(days_post) as double) / 365.25 as years
    from holders
    group by site_code, age_band
)

select * from final
order by site_code, age_band
