-- Budget holders' emergency admissions and person-years in the 12 months after the index date,
-- by site and age band, for holders whose index date falls in the period: the inputs to an
-- indirectly standardised ratio per site (observed against expected at all-sites rates by age).
-- Parameters: $sites (list or null), $date_from, $date_to (date), $management (list or null).
-- Sources: person_windows (built at load), people.
with holders as (
    select
        w.site_code,
        p.age_band,
        w.emergency_post,
        w.years_post
    from person_windows as w
    inner join people as p on p.person_id = w.person_id
    where w.grp = 'budget_holders'
        and w.index_date between $date_from and $date_to
        and ($sites is null or list_contains($sites, w.site_code))
        and ($management is null or list_contains($management, w.management_option))
),

final as (
    select
        site_code,
        age_band,
        count(*) as holders,
        sum(emergency_post) as admissions,
        sum(years_post) as years
    from holders
    group by site_code, age_band
)

select * from final
order by site_code, age_band
