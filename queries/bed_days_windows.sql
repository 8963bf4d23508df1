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
-- Sources: window_stays (built at load: each person's stays summed by setting and window).
with per_person as (
    -- the people whose index date is in the period, each with their sums in a setting and window;
    -- the stays without a cost given are costed at the setting's unit cost (stay_cost)
    select
        grp,
        setting,
        pre_or_post,
        person_record_key as record_key,
        admission_keys,
        admissions,
        bed_days,
        given_cost_gbp
        + stay_cost(null, uncosted_bed_days, setting, $unit_cost_mental_health, $unit_cost_general_acute) as cost_gbp
    from window_stays
    where index_date between $date_from and $date_to
        and in_selection(site_code, $sites)
        and (grp = 'comparison' or in_selection(management_option, $management))
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
