-- One row per person, setting and window with any admission in it, for bed_days_windows: the
-- windows are the 12 months before the index date ('pre') and the 12 months from it ('post'),
-- for budget holders and the comparison group. With the person's admissions, bed days, the cost
-- given in the extract for the stays that have one (given_cost_gbp) and the bed days of the stays
-- that have none (uncosted_bed_days: the query costs them at the setting's unit cost, a setting
-- of the dashboard, so it cannot be built in), the sum of the admissions' record keys, and the
-- person's site, group, management option, index date and record key. A stay's window depends
-- only on its own dates and its person's index date, never on a filter, so the queries need not
-- group a million people's stays on every run.
-- Sources: admission_lines (built before this).
with stays as (
    select
        person_key,
        site_code,
        grp,
        management_option,
        index_date,
        setting,
        person_record_key,
        record_key,
        bed_days,
        cost_gbp,
        case
            when admitted_on >= index_date - interval 12 month and admitted_on < index_date then 'pre'
            when admitted_on >= index_date and admitted_on < index_date + interval 12 month then 'post'
        end as pre_or_post
    from admission_lines
    where grp in ('budget_holders', 'comparison')
),

final as (
    -- a person has one site, group, management option, index date and record key
    select
        person_key,
        setting,
        pre_or_post,
        any_value(site_code) as site_code,
        any_value(grp) as grp,
        any_value(management_option) as management_option,
        any_value(index_date) as index_date,
        any_value(person_record_key) as person_record_key,
        count(*) as admissions,
        sum(record_key) as admission_keys,
        sum(bed_days) as bed_days,
        coalesce(sum(cost_gbp), 0) as given_cost_gbp,
        coalesce(sum(bed_days) filter (where cost_gbp is null), 0) as uncosted_bed_days
    from stays
    where pre_or_post is not null
    group by person_key, setting, pre_or_post
    order by index_date, person_key, setting, pre_or_post
)

select * from final
