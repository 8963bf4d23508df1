-- The budget pathway for people referred in the period, by site and for all selected sites
-- (site_code null): how many reached each step by the period's last day, how many declined,
-- withdrew or are still in planning, and the median days from referral to budget start (for
-- disclosure control, the mean of the 5 people's days nearest the median's rank: 0-based rank
-- (n - 1) / 2 rounded half up, moved inwards at the ends so 5 are always taken, all where fewer).
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
        grouping(site_code) as level
    from cohort
    group by grouping sets ((site_code), ())
),

ranked as (
    -- each person with a budget once at their site (level 0) and once in all (level 1), ranked by days
    select
        level,
        site_code,
        days_to_budget,
        row_number() over (partition by level, site_code order by days_to_budget) - 1 as rank0,
        count(*) over (partition by level, site_code) as n
    from (
        select 0 as level, site_code, days_to_budget from cohort where days_to_budget is not null
        union all
        select 1 as level, null as site_code, days_to_budget from cohort where days_to_budget is not null
    )
),

medians as (
    select
        level,
        site_code,
        avg(days_to_budget) filter (
            where abs(rank0 - least(greatest(floor((n - 1) / 2 + 0.5), 2), n - 3)) <= 2
        ) as median_days_to_budget
    from ranked
    group by level, site_code
)

select
    f.* exclude (level),
    m.median_days_to_budget
from final as f
left join medians as m on m.level = f.level and m.site_code is not distinct from f.site_code
order by f.site_code nulls last
