-- Conversion from referral to budget for people referred in the period, by each personal
-- characteristic in turn (one row per characteristic and group): referred, and how many had a
-- budget start by the period's last day. A blank deprivation quintile is 'not recorded'.
-- Parameters: $sites (list or null), $date_from, $date_to (date).
-- Sources: people.
with cohort as (
    select
        age_band,
        sex,
        ethnicity,
        coalesce(cast(imd_quintile as varchar), 'not_recorded') as imd_quintile,
        primary_need,
        budget_start is not null and budget_start <= $date_to as budget_started
    from people
    where arm = 'phb'
        and referred_on between $date_from and $date_to
        and ($sites is null or list_contains($sites, site_code))
),

long as (
    unpivot cohort
    on age_band, sex, ethnicity, imd_quintile, primary_need
    into name characteristic value grp
),

final as (
    select
        characteristic,
        grp,
        count(*) as referred,
        count(*) filter (where budget_started) as budgets
    from long
    group by characteristic, grp
)

select * from final
order by characteristic, grp
