-- One row per site, group, management option, admission method, setting and month admitted:
-- admissions and bed days (an open stay counts to the end of the data period; cost where
-- blank is bed days times the unit cost of the setting, at 2011/12 prices).
-- record_keys is the sum of the admissions' record keys (for cell keys).
-- Parameters: $unit_cost_mental_health, $unit_cost_general_acute (GBP).
-- Sources: admission_lines (built before this: groups and bed days are defined there).
with stays as (
    select
        site_code,
        grp,
        management_option,
        admission_method,
        setting,
        cast(date_trunc('month', admitted_on) as date) as month,
        bed_days,
        cost_gbp,
        record_key
    from admission_lines
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
        cast(sum(record_key) as bigint) as record_keys,
        sum(bed_days) as bed_days,
        sum(
            stay_cost(cost_gbp, bed_days, setting, $unit_cost_mental_health, $unit_cost_general_acute)
        ) as cost_gbp
    from stays
    group by all
)

select * from final
