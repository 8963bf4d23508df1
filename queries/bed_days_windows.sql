-- Bed days and cost of all admissions in the 12 months before and after the index date, by group
-- and setting, for people whose index date falls in the period, with the people behind each row.
-- Cost is the extract's where given, else bed days times the unit cost of the setting.
-- `<count>_ckey` is the cell key of each count: the sum of the record keys of exactly the records
-- counted, mod 256 (0 for none), for cell key perturbation (phb/disclosure.py).
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
        coalesce(
            cost_gbp,
            bed_days * case setting
                when 'mental_health' then $unit_cost_mental_health
                else $unit_cost_general_acute
            end
        ) as cost_gbp,
        case
            when admitted_on >= index_date - interval 12 month and admitted_on < index_date then 'pre'
            when admitted_on >= index_date and admitted_on < index_date + interval 12 month then 'post'
        end as pre_or_post
    from admission_lines
    where grp in ('budget_holders', 'comparison')
        and index_date between $date_from and $date_to
        and ($sites is null or list_contains($sites, site_code))
        and (grp = 'comparison' or $management is null or list_contains($management, management_option))
),

final as (
    select
        grp,
        setting,
        pre_or_post,
        count(*) as admissions,
        cast(sum(record_key) % 256 as integer) as admissions_ckey,
        sum(bed_days) as bed_days,
        sum(cost_gbp) as cost_gbp,
        count(distinct person_key) as people
    from stays
    where pre_or_post is not null
    group by grp, setting, pre_or_post
)

select * from final
order by grp, setting, pre_or_post desc
