-- Emergency admissions and bed days by month admitted, for budget holders and the comparison
-- group, per site and for all selected sites (site_code null), with every month of the period
-- present (zero where nothing happened) and the people admitted (for disclosure control).
-- `<count>_ckey` is the cell key of each count: the sum of the record keys of exactly the records
-- counted, mod 256 (0 for none), for cell key perturbation (phb/disclosure.py).
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
        person_record_key,
        record_key,
        bed_days
    from admission_lines
    where admission_method = 'emergency'
        and grp in ('budget_holders', 'comparison')
        and admitted_on between $date_from and $date_to
        and ($sites is null or list_contains($sites, site_code))
        and (grp = 'comparison' or $management is null or list_contains($management, management_option))
),

per_person as (
    -- one row per person admitted in a month first (a person belongs to one site and group)
    select
        month,
        site_code,
        grp,
        person_key,
        any_value(person_record_key) as person_record_key,
        count(*) as admissions,
        sum(record_key) as admission_keys,
        sum(bed_days) as bed_days
    from stays
    group by month, site_code, grp, person_key
),
counted as (
    select
        month,
        site_code,
        grp,
        sum(admissions) as admissions,
        sum(admission_keys) % 256 as admissions_ckey,
        sum(bed_days) as bed_days,
        count(*) as people,
        sum(person_record_key) % 256 as people_ckey
    from per_person
    group by grouping sets ((month, site_code, grp), (month, grp))
),

final as (
    select
        c.month,
        c.site_code,
        c.grp,
        coalesce(n.admissions, 0) as admissions,
        cast(coalesce(n.admissions_ckey, 0) as integer) as admissions_ckey,
        coalesce(n.bed_days, 0) as bed_days,
        coalesce(n.people, 0) as people,
        cast(coalesce(n.people_ckey, 0) as integer) as people_ckey
    from (select * from cells union all select distinct month, null as site_code, grp from cells) as c
    left join counted as n
        on n.month = c.month and n.grp = c.grp and n.site_code is not distinct from c.site_code
)

select * from final
order by site_code nulls first, grp, month
