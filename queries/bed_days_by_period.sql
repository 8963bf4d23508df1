-- Bed days of emergency admissions by month or quarter admitted, for budget holders and the
-- comparison group, per site and for all selected sites (site_code null), with every period of the
-- selection present (zero where nothing happened). For disclosure control, over the people admitted
-- in each row (per-person sums within the row): `people`, `top1` and `top2` (the two largest
-- per-person bed days, 0 where there are fewer) and `mkey` (the sum of their record keys modulo 256).
-- Parameters: $grain ('month' or 'quarter'), $sites (list or null), $date_from, $date_to (date),
-- $management (list or null; applies to budget holders only).
-- Sources: admission_lines (built at load), sites.
with periods as (
    select distinct cast(date_trunc($grain, m) as date) as period
    from range(
        cast(date_trunc('month', $date_from::date) as date),
        cast($date_to::date + interval 1 day as date),
        interval 1 month
    ) as t(m)
),

cells as (
    select
        p.period,
        s.site_code,
        g.grp
    from periods as p
    cross join (select site_code from sites where $sites is null or list_contains($sites, site_code)) as s
    cross join (values ('budget_holders'), ('comparison')) as g(grp)
),

stays as (
    select
        cast(date_trunc($grain, admitted_on) as date) as period,
        site_code,
        grp,
        person_key,
        person_record_key,
        bed_days
    from admission_lines
    where admission_method = 'emergency'
        and grp in ('budget_holders', 'comparison')
        and admitted_on between $date_from and $date_to
        and ($sites is null or list_contains($sites, site_code))
        and (grp = 'comparison' or $management is null or list_contains($management, management_option))
),

per_person as (
    select
        grouping(site_code) as level,
        period,
        site_code,
        grp,
        person_key,
        any_value(person_record_key) as record_key,
        sum(bed_days) as bed_days
    from stays
    group by grouping sets ((period, site_code, grp, person_key), (period, grp, person_key))
),

counted as (
    select
        period,
        site_code,
        grp,
        sum(bed_days) as bed_days,
        count(*) as people,
        coalesce(max(bed_days, 2)[1], 0) as top1,
        coalesce(max(bed_days, 2)[2], 0) as top2,
        cast(sum(record_key) % 256 as integer) as mkey
    from per_person
    group by level, period, site_code, grp
),

final as (
    select
        c.period,
        c.site_code,
        c.grp,
        coalesce(n.bed_days, 0) as bed_days,
        coalesce(n.people, 0) as people,
        coalesce(n.top1, 0) as top1,
        coalesce(n.top2, 0) as top2,
        coalesce(n.mkey, 0) as mkey
    from (select * from cells union all select distinct period, null as site_code, grp from cells) as c
    left join counted as n
        on n.period = c.period and n.grp = c.grp and n.site_code is not distinct from c.site_code
)

select * from final
order by site_code nulls first, grp, period
