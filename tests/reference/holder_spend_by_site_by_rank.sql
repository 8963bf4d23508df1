-- A reference for tests only: the old way holder_spend_by_site worked out its
-- quartiles, numbering everyone at each level with row_number() and averaging the 5
-- ranked nearest each quantile (avg ... filter). tests/test_queries.py appends it to the query's own
-- common table expressions up to the one that now sorts the values into lists, so the two differ
-- only in how the quantiles are read.
ranked as (
    select
        *,
        row_number() over (partition by level, site_code, management_option order by net_gbp) - 1 as rank0,
        count(*) over (partition by level, site_code, management_option) as n
    from levels
),

centred as (
    -- the middle rank of the 5 values averaged for each quantile
    select
        *,
        least(greatest(floor(0.25 * (n - 1) + 0.5), 2), n - 3) as c1,
        least(greatest(floor(0.5 * (n - 1) + 0.5), 2), n - 3) as c2,
        least(greatest(floor(0.75 * (n - 1) + 0.5), 2), n - 3) as c3
    from ranked
),

final as (
    select
        site_code,
        management_option,
        count(*) as holders,
        cast(sum(record_key) % 256 as integer) as holders_ckey,
        avg(net_gbp) filter (where abs(rank0 - c1) <= 2) as q1_gbp,
        avg(net_gbp) filter (where abs(rank0 - c2) <= 2) as median_gbp,
        avg(net_gbp) filter (where abs(rank0 - c3) <= 2) as q3_gbp,
        sum(net_gbp) as net_gbp,
        coalesce(max(abs(net_gbp), 2)[1], 0) as top1,
        coalesce(max(abs(net_gbp), 2)[2], 0) as top2,
        cast(sum(record_key) % 256 as integer) as mkey,
        sum(pro_rata_budget_gbp) as pro_rata_budget_gbp
    from centred
    group by level, site_code, management_option
)

select * from final
order by site_code nulls last, management_option nulls last
