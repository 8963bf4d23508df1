-- The budget pathway for people referred in the period, by site and for all selected sites
-- (site_code null): how many reached each step by the period's last day, how many declined,
-- withdrew or are still in planning, and the median days from referral to budget start.
-- Declined and withdrew are final recorded outcomes (the extract holds no date for them).
-- `<count>_ckey` is the cell key of each count: the sum of the record keys of exactly the records
-- counted, mod 256 (0 for none), for cell key perturbation (phb/disclosure.py).
-- Parameters: $sites (list or null), $date_from, $date_to (date).
-- Sources: people, person_keys (built at load).
with cohort as (
    select
        p.site_code,
        p.outcome,
        k.record_key,
        p.offered_on is not null and p.offered_on <= $date_to as offered,
        p.plan_agreed_on is not null and p.plan_agreed_on <= $date_to as plan_agreed,
        p.budget_start is not null and p.budget_start <= $date_to as budget_started,
        case
            when p.budget_start is not null and p.budget_start <= $date_to
                then date_diff('day', p.referred_on, p.budget_start)
        end as days_to_budget
    from people as p
    inner join person_keys as k on k.person_id = p.person_id
    where arm = 'phb'
        and referred_on between $date_from and $date_to
        and ($sites is null or list_contains($sites, site_code))
),

final as (
    select
        site_code,
        count(*) as referred,
        cast(sum(record_key) % 256 as integer) as referred_ckey,
        count(*) filter (where offered) as offered,
        cast(coalesce(sum(record_key) filter (where offered), 0) % 256 as integer) as offered_ckey,
        count(*) filter (where plan_agreed) as plan_agreed,
        cast(coalesce(sum(record_key) filter (where plan_agreed), 0) % 256 as integer) as plan_agreed_ckey,
        count(*) filter (where budget_started) as budget_in_place,
        cast(coalesce(sum(record_key) filter (where budget_started), 0) % 256 as integer) as budget_in_place_ckey,
        count(*) filter (where not budget_started and outcome = 'declined') as declined,
        cast(coalesce(sum(record_key) filter (where not budget_started and outcome = 'declined'), 0) % 256 as integer) as declined_ckey,
        count(*) filter (where not budget_started and outcome = 'withdrawn') as withdrawn,
        cast(coalesce(sum(record_key) filter (where not budget_started and outcome = 'withdrawn'), 0) % 256 as integer) as withdrawn_ckey,
        count(*) filter (where not budget_started and outcome not in ('declined', 'withdrawn')) as in_planning,
        cast(coalesce(sum(record_key) filter (where not budget_started and outcome not in ('declined', 'withdrawn')), 0) % 256 as integer) as in_planning_ckey,
        median(days_to_budget) as median_days_to_budget
    from cohort
    group by grouping sets ((site_code), ())
)

select * from final
order by site_code nulls last
