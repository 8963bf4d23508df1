-- Emergency admissions in the 12 months before and after the index date, by site and group,
-- for people whose index date falls in the period. Person-years cover only the data period.
-- Parameters: $sites (list or null), $date_from, $date_to (date), $management (list or null;
-- applies to budget holders, not the comparison group).
-- Sources: person_windows (built at load).
with cohort as (
    select *
    from person_windows
    where index_date between $date_from and $date_to
        and ($sites is null or list_contains($sites, site_code))
        and (grp = 'comparison' or $management is null or list_contains($management, management_option))
),

final as (
    select
        site_code,
        grp,
        count(*) as people,
        sum(emergency_pre) as emergency_pre,
        sum(emergency_post) as emergency_post,
        sum(years_pre) as years_pre,
        sum(years_post) as years_post
    from cohort
    group by site_code, grp
)

select * from final
order by site_code, grp
