-- Emergency admissions and bed days by month admitted, for budget holders and the comparison
-- group, per site and for all selected sites (site_code null), with every month of the period
-- present (zero where nothing happened) and the people admitted (for disclosure control).
-- Parameters: $sites (list or null), $date_from, $date_to (date), $management (list or null;
-- applies to budget holders only).
-- Sources: admission_lines (built at load), sites.
with months as (
    select cast(m as date) as month
    from range(
        cast(date_trunc('month', $date_from::date) as date),
        cast($date_to::date + interval 1 day as date),
        interval 1 month
    ) as t(m)
),

cells as (
    select
        m.month,
        s.site_code,
        g.grp
    from months as m
    cross join (select site_code from sites where $sites is null or list_contains($sites, site_code)) as s
    cross join (values ('budget_holders'), ('comparison')) as g(grp)
),

stays as (
    select
        cast(date_trunc('month', admitted_on) as date) as month,
        site_code,
        grp,
        person_key,
        bed_days
    from admission_lines
    where admission_method = 'emergency'
        and grp in ('budget_holders', 'comparison')
        and admitted_on between $date_from and $date_to
        and ($sites is null or list_contains($sites, site_code))
        and (grp = 'comparison' or $management is null or list_contains($management, management_option))
),

counted as (
    select
        month,
        site_code,
        grp,
        count(*) as admissions,
        sum(bed_days) as bed_days,
        count(distinct person_key) as people
    from stays
    group by grouping sets ((month, site_code, grp), (month, grp))
),

final as (
    select
        c.month,
        c.site_code,
        c.grp,
        coalesce(n.admissions, 0) as admissions,
        coalesce(n.bed_days, 0) as bed_days,
        coalesce(n.people, 0) as people
    from (select * from cells union all select distinct month, null as site_code, grp from cells) as c
    left join counted as n
        on n.month = c.month and n.grp = c.grp and n.site_code is not distinct from c.site_code
)

select * from final
order by site_code nulls first, grp, month
