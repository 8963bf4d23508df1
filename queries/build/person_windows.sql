-- One row per person in the admissions analysis (budget holders and the comparison group),
-- with emergency admissions, bed days and person-years in the 12 months before and after the
-- index date. Person-years count only the time the data period covers (contract definitions); the
-- whole days behind them are kept too (days_pre, days_post), so sums of them are exact.
-- The person's record key, and per window the sum of the record keys of the emergency admissions
-- counted (emergency_pre_keys, emergency_post_keys), from which queries make cell keys.
-- Parameters: $period_start, $period_end (date): the data period.
-- Sources: people, person_keys, admission_lines (built before this: bed days are defined there).
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
        k.person_id,
        a.admitted_on,
        a.bed_days,
        a.record_key
    from admission_lines as a
    inner join person_keys as k on k.person_key = a.person_key
    where a.admission_method = 'emergency'
),

counted as (
    select
        c.person_id,
        count(*) filter (where s.admitted_on >= c.pre_start and s.admitted_on < c.index_date) as emergency_pre,
        count(*) filter (where s.admitted_on >= c.index_date and s.admitted_on < c.post_end) as emergency_post,
        coalesce(sum(s.record_key) filter (where s.admitted_on >= c.pre_start and s.admitted_on < c.index_date), 0)
            as emergency_pre_keys,
        coalesce(sum(s.record_key) filter (where s.admitted_on >= c.index_date and s.admitted_on < c.post_end), 0)
            as emergency_post_keys,
        coalesce(sum(s.bed_days) filter (where s.admitted_on >= c.pre_start and s.admitted_on < c.index_date), 0)
            as bed_days_pre,
        coalesce(sum(s.bed_days) filter (where s.admitted_on >= c.index_date and s.admitted_on < c.post_end), 0)
            as bed_days_post
    from cohort as c
    inner join stays as s on s.person_id = c.person_id
    group by c.person_id
),

spans as (
    select
        *,
        greatest(
            date_diff('day', greatest(pre_start, $period_start::date), least(index_date, $period_end::date + 1)), 0
        ) as days_pre,
        greatest(
            date_diff('day', greatest(index_date, $period_start::date), least(post_end, $period_end::date + 1)), 0
        ) as days_post
    from cohort
),

final as (
    select
        c.person_id,
        c.site_code,
        c.grp,
        c.management_option,
        c.index_date,
        k.record_key,
        coalesce(n.emergency_pre, 0) as emergency_pre,
        coalesce(n.emergency_post, 0) as emergency_post,
        cast(coalesce(n.emergency_pre_keys, 0) as bigint) as emergency_pre_keys,
        cast(coalesce(n.emergency_post_keys, 0) as bigint) as emergency_post_keys,
        coalesce(n.bed_days_pre, 0) as bed_days_pre,
        coalesce(n.bed_days_post, 0) as bed_days_post,
        -- days of each window inside the data period (the period's last day included), whole and in years
        c.days_pre,
        c.days_post,
        c.days_pre / 365.25 as years_pre,
        c.days_post / 365.25 as years_post
    from spans as c
    inner join person_keys as k on k.person_id = c.person_id
    left join counted as n on n.person_id = c.person_id
)

select * from final
