-- Bed days and cost of all admissions in the 12 months before and after the index date, by group
-- and setting, for people whose index date falls in the period, with the people behind each row.
-- Cost is the extract's where given, else bed days times the unit cost of the setting.
-- For disclosure control, over the people in each row (per-person sums within the row):
-- `bed_top1`, `bed_top2` and `cost_top1`, `cost_top2` (the two largest per-person bed days and
-- costs, 0 where there are fewer) and `mkey` (the sum of their record keys modulo 256).
-- Parameters: $sites (list or null), $date_from, $date_to (date), $management (list or null;
-- applies to budget holders only), $unit_cost_mental_health, $unit_cost_general_acute (GBP).
-- Sources: admission_lines (built at load), person_keys.
with stays as (
    select
        a.grp,
        a.setting,
        a.person_key,
        k.record_key,
        a.bed_days,
        coalesce(
            a.cost_gbp,
            a.bed_days * case a.setting
                when 'mental_health' then $unit_cost_mental_health
                else $unit_cost_general_acute
            end
        ) as cost_gbp,
        case
            when a.admitted_on >= a.index_date - interval 12 month and a.admitted_on < a.index_date then 'pre'
            when a.admitted_on >= a.index_date and a.admitted_on < a.index_date + interval 12 month then 'post'
        end as pre_or_post
    from admission_lines as a
    inner join person_keys as k on k.person_key = a.person_key
    where a.grp in ('budget_holders', 'comparison')
        and a.index_date between $date_from and $date_to
        and ($sites is null or list_contains($sites, a.site_code))
        and (a.grp = 'comparison' or $management is null or list_contains($management, a.management_option))
),

per_person as (
    select
        grp,
        setting,
        pre_or_post,
        person_key,
        any_value(record_key) as record_key,
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
