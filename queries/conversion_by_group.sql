-- Conversion from referral to budget for people referred in the period, by each personal
-- characteristic in turn (one row per characteristic and group): referred, and how many had a
-- budget start by the period's last day. A blank deprivation quintile is 'not recorded'.
-- `<count>_ckey` is the cell key of each count: the sum of the record keys of exactly the records
-- counted, mod 256 (0 for none), for cell key perturbation (phb/disclosure.py).
-- Each characteristic is one grouping set over the same people (a person with no value recorded
-- for one is left out of it, as an UNPIVOT leaves out nulls): at a million people over all sites,
-- 74 ms, where unpivoting every person into five rows and grouping those took 130 ms.
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

final as (
    -- the characteristic is the grouping set's one grouped column, the group its value
    select
        case
            when grouping(age_band) = 0 then 'age_band'
            when grouping(sex) = 0 then 'sex'
            when grouping(ethnicity) = 0 then 'ethnicity'
            when grouping(imd_quintile) = 0 then 'imd_quintile'
            else 'primary_need'
        end as characteristic,
        coalesce(age_band, sex, ethnicity, imd_quintile, primary_need) as grp,
        count(*) as referred,
        cast(sum(record_key) % 256 as integer) as referred_ckey,
        count(*) filter (where budget_started) as budgets,
        cast(coalesce(sum(record_key) filter (where budget_started), 0) % 256 as integer) as budgets_ckey
    from cohort
    group by grouping sets ((age_band), (sex), (ethnicity), (imd_quintile), (primary_need))
)

select * from final
where grp is not null  -- a person with nothing recorded for the characteristic
order by characteristic, grp
