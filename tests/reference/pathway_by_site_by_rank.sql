-- A reference for tests only: the old way pathway_by_site worked out its
-- median, numbering everyone at each level with row_number() and averaging the 5
-- ranked nearest each quantile (avg ... filter). tests/test_queries.py appends it to the query's own
-- common table expressions up to the one that now sorts the values into lists, so the two differ
-- only in how the quantiles are read.
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
