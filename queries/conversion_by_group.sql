-- Conversion from referral to budget for people referred in the period, by each personal
-- characteristic in turn (one row per characteristic and group): referred, and how many had a
-- budget start by the period's last day. A blank deprivation quintile is 'not recorded'.
-- `<count>_ckey` is the cell key of each count: the sum of the record keys of exactly the records
-- counted, mod 256 (0 for none), for cell key perturbation (phb/disclosure.py).
-- Parameters: $sites (list or null), $date_from, $date_to (date).
-- Sources: people_keyed (built at load).
with cohort as (
    select
        p.age_band,
        p.sex,
        p.ethnicity,
        coalesce(cast(p.imd_quintile as varchar), 'not_recorded') as imd_quintile,
        p.primary_need,
        p.budget_start is not null and p.budget_start <= $date_to as budget_started,
        p.record_key
    from people_keyed as p
    where arm = 'phb'
        and referred_on between $date_from and $date_to
        and in_selection(site_code, $sites)
),

long as (
    select *
    from cohort
    unpivot (grp for characteristic in (age_band, sex, ethnicity, imd_quintile, primary_need))
),

final as (
    select
        characteristic,
        grp,
        count(*) as referred,
        cast(sum(record_key) % 256 as integer) as referred_ckey,
        count(*) filter (where budget_started) as budgets,
        cast(coalesce(sum(record_key) filter (where budget_started), 0) % 256 as integer) as budgets_ckey
    from long
    group by characteristic, grp
)

select * from final
order by characteristic, grp
