-- A reference for tests only: pathway_by_site as it was before it read the median from a sorted list,
-- numbering everyone with a budget at each level with row_number() and averaging the 5 ranked
-- nearest the median (avg ... filter). The same rule worked out another way; tests compare the two.
-- The budget pathway for people referred in the period, by site and for all selected sites
-- (site_code null): how many reached each step by the period's last day, how many declined,
-- withdrew or are still in planning, and the median days from referral to budget start (for
-- disclosure control, the mean of the 5 people's days nearest the median's rank: 0-based rank
-- (n - 1) / 2 rounded half up, moved inwards at the ends so 5 are always taken, all where fewer).
-- Declined and withdrew are final recorded outcomes (the extract holds no date for them).
-- `<count>_ckey` is the cell key of each count: the sum of the record keys of exactly the records
-- counted, mod 256 (0 for none), for cell key perturbation (phb/disclosure.py).
-- Parameters: $sites (list or null), $date_from, $date_to (date).
-- Sources: people_keyed (built at load).
with cohort as (
    select
        p.site_code,
        p.outcome,
        p.record_key,
        p.offered_on is not null and p.offered_on <= $date_to as offered,
        p.plan_agreed_on is not null and p.plan_agreed_on <= $date_to as plan_agreed,
        p.budget_start is not null and p.budget_start <= $date_to as budget_started,
        case
            when p.budget_start is not null and p.budget_start <= $date_to
                then date_diff('day', p.referred_on, p.budget_start)
        end as days_to_budget
    from people_keyed as p
    where arm = 'phb'
        and referred_on between $date_from and $date_to
        and in_selection(site_code, $sites)
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
        grouping(site_code) as level
    from cohort
    group by grouping sets ((site_code), ())
),

with_total as (
    -- the all-sites row even when nobody was referred (DuckDB makes it for the empty grouping set
    -- over no rows, Spark does not): zero counts, and a null key where the sum of no keys is null
    select * from final
    union all
    select
        null as site_code, 0 as referred, null as referred_ckey, 0 as offered, 0 as offered_ckey,
        0 as plan_agreed, 0 as plan_agreed_ckey, 0 as budget_in_place, 0 as budget_in_place_ckey,
        0 as declined, 0 as declined_ckey, 0 as withdrawn, 0 as withdrawn_ckey, 0 as in_planning,
        0 as in_planning_ckey, 1 as level
    where not exists (select 1 from final where level = 1)
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
    f.site_code, f.referred, f.referred_ckey, f.offered,
    f.offered_ckey, f.plan_agreed, f.plan_agreed_ckey, f.budget_in_place,
    f.budget_in_place_ckey, f.declined, f.declined_ckey, f.withdrawn,
    f.withdrawn_ckey, f.in_planning, f.in_planning_ckey,
    m.median_days_to_budget
from with_total as f
left join medians as m on m.level = f.level and m.site_code is not distinct from f.site_code
order by f.site_code nulls last
