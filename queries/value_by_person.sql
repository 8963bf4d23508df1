-- One row per person in the value-for-money analysis (budget holders and the comparison group) whose
-- index date falls in the period: site, group, management option, record key, person-years in the
-- 12 months before and after the index date (as person_windows counts them), and per window:
-- hospital cost of all admissions admitted in it (the extract's cost where given, else bed days
-- times the unit cost of the setting), mental health bed days, and general acute cost (for the
-- break-even at other bed-day costs); and money spent from the budget in the 12 months from the
-- index date (net of refunds; 0 for the comparison group). For the bootstrap and for working out
-- disclosure-controlled totals only: never shown person by person.
-- Parameters: $sites (list or null), $date_from, $date_to (date), $management (list or null;
-- applies to budget holders only), $unit_cost_mental_health, $unit_cost_general_acute (GBP).
-- Sources: person_windows, person_keys, admission_lines, spend_lines (built at load).
with cohort as (
    select
        w.person_id,
        k.person_key,
        w.record_key,
        w.site_code,
        w.grp,
        w.management_option,
        w.index_date,
        w.years_pre,
        w.years_post
    from person_windows as w
    inner join person_keys as k on k.person_id = w.person_id
    where w.index_date between $date_from and $date_to
        and in_selection(w.site_code, $sites)
        and (w.grp = 'comparison' or in_selection(w.management_option, $management))
),

stays as (
    select
        a.person_key,
        case
            when a.admitted_on >= a.index_date - interval 12 month and a.admitted_on < a.index_date then 'pre'
            when a.admitted_on >= a.index_date and a.admitted_on < a.index_date + interval 12 month then 'post'
        end as pre_or_post,
        a.setting,
        a.bed_days,
        stay_cost(a.cost_gbp, a.bed_days, a.setting, $unit_cost_mental_health, $unit_cost_general_acute) as cost_gbp
    from admission_lines as a
    where a.grp in ('budget_holders', 'comparison')
),

per_person_stays as (
    select
        person_key,
        count(*) filter (where pre_or_post = 'pre') as admissions_pre,
        count(*) filter (where pre_or_post = 'post') as admissions_post,
        coalesce(sum(cost_gbp) filter (where pre_or_post = 'pre'), 0) as cost_pre,
        coalesce(sum(cost_gbp) filter (where pre_or_post = 'post'), 0) as cost_post,
        coalesce(sum(bed_days) filter (where pre_or_post = 'pre' and setting = 'mental_health'), 0) as mh_days_pre,
        coalesce(sum(bed_days) filter (where pre_or_post = 'post' and setting = 'mental_health'), 0) as mh_days_post,
        coalesce(sum(cost_gbp) filter (where pre_or_post = 'pre' and setting = 'general_acute'), 0) as acute_cost_pre,
        coalesce(sum(cost_gbp) filter (where pre_or_post = 'post' and setting = 'general_acute'), 0)
            as acute_cost_post
    from stays
    where pre_or_post is not null
    group by person_key
),

per_person_spend as (
    select
        c.person_key,
        sum(s.amount_gbp) as spend_post
    from cohort as c
    inner join spend_lines as s on s.person_key = c.person_key
    where c.grp = 'budget_holders'
        and s.paid_on >= c.index_date
        and s.paid_on < c.index_date + interval 12 month
    group by c.person_key
),

final as (
    select
        c.person_key,
        c.record_key,
        c.site_code,
        c.grp,
        c.management_option,
        c.years_pre,
        c.years_post,
        cast(coalesce(t.admissions_pre, 0) as integer) as admissions_pre,
        cast(coalesce(t.admissions_post, 0) as integer) as admissions_post,
        coalesce(t.cost_pre, 0) as cost_pre,
        coalesce(t.cost_post, 0) as cost_post,
        coalesce(t.mh_days_pre, 0) as mh_days_pre,
        coalesce(t.mh_days_post, 0) as mh_days_post,
        coalesce(t.acute_cost_pre, 0) as acute_cost_pre,
        coalesce(t.acute_cost_post, 0) as acute_cost_post,
        coalesce(s.spend_post, 0) as spend_post
    from cohort as c
    left join per_person_stays as t on t.person_key = c.person_key
    left join per_person_spend as s on s.person_key = c.person_key
)

select * from final
order by person_key
