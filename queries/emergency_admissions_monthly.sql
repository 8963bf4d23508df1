-- Emergency admissions by month admitted, for budget holders and the comparison group.
-- `<count>_ckey` is the cell key of each count: the sum of the record keys of exactly the records
-- counted, mod 256 (0 for none), for cell key perturbation (phb/disclosure.py).
-- Parameters: $sites (list or null), $date_from, $date_to (date), $management (list or null;
-- applies to budget holders only).
-- Sources: admissions_monthly (built at load).
with selected as (
    select *
    from admissions_monthly
    where admission_method = 'emergency'
        and grp in ('budget_holders', 'comparison')
        and month between date_trunc('month', $date_from::date) and $date_to
        and in_selection(site_code, $sites)
        and (grp = 'comparison' or in_selection(management_option, $management))
),

final as (
    select
        month,
        grp,
        sum(admissions) as admissions,
        cast(sum(record_keys) % 256 as integer) as admissions_ckey,
        sum(bed_days) as bed_days
    from selected
    group by month, grp
)

select * from final
order by month, grp
