-- The budget pathway for people referred in the period, by site and for all selected sites
-- (site_code null): how many reached each step by the period's last day, how many declined,
-- withdrew or are still in planning, and the median days from referral to budget start.
-- Declined and withdrew are final recorded outcomes (the extract holds no date for them).
-- Parameters: $sites (list or null), $date_from, $date_to (date).
-- Sources: people.
with cohort as (
    select
        site_code,
        outcome,
        offered_on is not null and offered_on <= $date_to as offered,
        plan_agreed_on is not null and plan_agreed_on <= $date_to as plan_agreed,
        budget_start is not null and budget_start <= $date_to as budget_started,
        case
            when budget_start is not null and budget_start <= $date_to
                then date_diff('day', referred_on, budget_start)
        end as days_to_budget
    from people
    where arm = 'phb'
        and referred_on between $date_from and $date_to
        and ($sites is null or list_contains($sites, site_code))
),

final as (
    select
        site_code,
        count(*) as referred,
        count(*) filter (where offered) as offered,
        count(*) filter (where plan_agreed) as plan_agreed,
        count(*) filter (where budget_started) as budget_in_place,
        count(*) filter (where not budget_started and outcome = 'declined') as declined,
        count(*) filter (where not budget_started and outcome = 'withdrawn') as withdrawn,
        count(*) filter (where not budget_started and outcome not in ('declined', 'withdrawn')) as in_planning,
        median(days_to_budget) as median_days_to_budget
    from cohort
    group by grouping sets ((site_code), ())
)

select * from final
order by site_code nulls last
