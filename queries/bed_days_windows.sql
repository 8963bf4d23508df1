-- Bed days and cost of all admissions in the 12 months before and after the index date, by group
-- and setting, for people whose index date falls in the period, with the people behind each row.
-- Cost is the extract's where given, else bed days times the unit cost of the setting.
-- For disclosure control, over the people in each row (per-person sums within the row):
-- `bed_top1`, `bed_top2` and `cost_top1`, `cost_top2` (the two largest per-person bed days and
-- costs, 0 where there are fewer) and `mkey` (the sum of their record keys modulo 256).
-- `admissions_ckey` is the cell key of the admissions counted: the sum of the admissions' record
-- keys, mod 256 (0 for none), for cell key perturbation (phb/disclosure.py).
-- Parameters: $sites (list or null), $date_from, $date_to (date), $management (list or null;
-- applies to budget holders only), $unit_cost_mental_health, $unit_cost_general_acute (GBP).
-- Sources: admission_lines (built at load).
with stays as (
    select
        grp,
        setting,
        person_key,
        person_record_key,
        record_key,
        bed_days,
        stay_cost(cost_gbp, bed_days, setting, $unit_cost_mental_health, $unit_cost_general_acute) as cost_gbp,
        case
            when admitted_on >= index_date - interval 12 month and admitted_on < index_date then 'pre'
            when admitted_on >= index_date and admitted_on < index_date + interval 12 month then 'post'
        end as pre_or_post
    from admission_lines
    where grp in ('budget_holders', 'comparison')
        and index_date between $date_from and $date_to
        and in_selection(site_code, $sites)
        and (grp = 'comparison' or in_selection(management_option, $management))
),

per_person as (
    select
        grp,
        setting,
        pre_or_post,
        person_key,
        any_value(person_record_key) as record_key,
        sum(record_key) as admission_keys,
        count(*) as admissions,
        sum(bed_days) as bed_days,
        sum(cost_gbp) as cost_gbp
    from stays
    where pre_or_post is not null
    group by grp, setting, pre_or_post, person_key
),

final as (
    select
        grp,
        setting,
        pre_or_post,
        cast(sum(admissions) as integer) as admissions,
        cast(sum(admission_keys) % 256 as integer) as admissions_ckey,
        sum(bed_days) as bed_days,
        sum(cost_gbp) as cost_gbp,
        count(*) as people,
        coalesce(max(abs(bed_days), 2)[1], 0) as bed_top1,
        coalesce(max(abs(bed_days), 2)[2], 0) as bed_top2,
        coalesce(max(abs(cost_gbp), 2)[1], 0) as cost_top1,
        coalesce(max(abs(cost_gbp), 2)[2], 0) as cost_top2,
        cast(sum(record_key) % 256 as integer) as mkey
    from per_person
    group by grp, setting, pre_or_post
)

select * from final
order by grp, setting, pre_or_post desc
