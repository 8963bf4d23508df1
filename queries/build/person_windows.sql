-- One row per person in the admissions analysis (budget holders and the comparison group),
-- with emergency admissions, bed days and person-years in the 12 months before and after the
-- index date. Person-years count only the time the data period covers (contract definitions).
-- Parameters: $period_start, $period_end (date): the data period.
-- Sources: people, admissions.
with cohort as (
    select
        person_id,
        site_code,
        case when outcome = 'budget_in_place' then 'budget_holders' else 'comparison' end as grp,
        management_option,
        index_date,
        cast(index_date - interval 12 month as date) as pre_start,
        cast(index_date + interval 12 month as date) as post_end
    from people
    where (outcome = 'budget_in_place' or arm = 'comparison')
        and index_date is not null
),

stays as (
    select
        a.person_id,
        a.admitted_on,
        date_diff('day', a.admitted_on, coalesce(a.discharged_on, $period_end::date)) as bed_days
    from admissions as a
    where a.admission_method = 'emergency'
),

counted as (
    select
        c.person_id,
        count(*) filter (where s.admitted_on >= c.pre_start and s.admitted_on < c.index_date) as emergency_pre,
        count(*) filter (where s.admitted_on >= c.index_date and s.admitted_on < c.post_end) as emergency_post,
        coalesce(sum(s.bed_days) filter (where s.admitted_on >= c.pre_start and s.admitted_on < c.index_date), 0)
            as bed_days_pre,
        coalesce(sum(s.bed_days) filter (where s.admitted_on >= c.index_date and s.admitted_on < c.post_end), 0)
            as bed_days_post
    from cohort as c
    inner join stays as s on s.person_id = c.person_id
    group by c.person_id
),

final as (
    select
        c.person_id,
        c.site_code,
        c.grp,
        c.management_option,
        c.index_date,
        coalesce(n.emergency_pre, 0) as emergency_pre,
        coalesce(n.emergency_post, 0) as emergency_post,
        coalesce(n.bed_days_pre, 0) as bed_days_pre,
        coalesce(n.bed_days_post, 0) as bed_days_post,
        -- days of each window inside the data period (the period's last day included), in years
        greatest(
            date_diff('day', greatest(c.pre_start, $period_start::date), least(c.index_date, $period_end::date + 1)), 0
        ) / 365.25 as years_pre,
        greatest(
            date_diff('day', greatest(c.index_date, $period_start::date), least(c.post_end, $period_end::date + 1)), 0
        ) / 365.25 as years_post
    from cohort as c
    left join counted as n on n.person_id = c.person_id
)

select * from final
