-- Emergency admissions in the 12 months before and after the index date, by site and group,
-- for people whose index date falls in the period. Person-years cover only the data period.
-- `<count>_ckey` is the cell key of each count: the sum of the record keys of exactly the records
-- counted, mod 256 (0 for none), for cell key perturbation (phb/disclosure.py).
-- Parameters: $sites (list or null), $date_from, $date_to (date), $management (list or null;
-- applies to budget holders, not the comparison group).
-- Sources: person_windows (built at load).
with cohort as (
    select *
    from person_windows
    where index_date between $date_from and $date_to
        and in_selection(site_code, $sites)
        and (grp = 'comparison' or in_selection(management_option, $management))
),

final as (
    select
        site_code,
        grp,
        count(*) as people,
        cast(sum(record_key) % 256 as integer) as people_ckey,
        sum(emergency_pre) as emergency_pre,
        cast(sum(emergency_pre_keys) % 256 as integer) as emergency_pre_ckey,
        sum(emergency_post) as emergency_post,
        cast(sum(emergency_post_keys) % 256 as integer) as emergency_post_ckey,
        -- whole days added (exact in any order, so the same on every run), then made person-years once
        cast(sum(days_pre) as double) / 365.25 as years_pre,
        cast(sum(days_post) as double) / 365.25 as years_post
    from cohort
    group by site_code, grp
)

select * from final
order by site_code, grp
