-- One row per site, group, management option, admission method, setting and month admitted:
-- admissions and bed days (an open stay counts to the end of the data period; cost where
-- blank is bed days times the unit cost of the setting, at 2011/12 prices).
-- Parameters: $period_end (date), $unit_cost_mental_health, $unit_cost_general_acute (GBP).
-- Sources: admissions, people.
with stays as (
    select
        p.site_code,
        case
            when p.outcome = 'budget_in_place' then 'budget_holders'
            when p.arm = 'comparison' then 'comparison'
            else 'other_pathway'
        end as grp,
        p.management_option,
        a.admission_method,
        a.setting,
        cast(date_trunc('month', a.admitted_on) as date) as month,
        date_diff('day', a.admitted_on, coalesce(a.discharged_on, $period_end::date)) as bed_days,
        a.cost_gbp
    from admissions as a
    inner join people as p on p.person_id = a.person_id
),

final as (
    select
        site_code,
        grp,
        management_option,
        admission_method,
        setting,
        month,
        count(*) as admissions,
        sum(bed_days) as bed_days,
        sum(
            coalesce(
                cost_gbp,
                bed_days * case setting
                    when 'mental_health' then $unit_cost_mental_health
                    else $unit_cost_general_acute
                end
            )
        ) as cost_gbp
    from stays
    group by all
)

select * from final
