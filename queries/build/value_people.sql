-- One row per person in the value-for-money analysis (budget holders and the comparison group, as
-- person_windows has them), with all that value_by_person needs that depends on neither a filter
-- nor the unit costs, so the query reads a row per person instead of grouping their stays and
-- payments on every run: the person's keys, site, group, management option, index date and
-- person-years in each window (from person_windows); per window (the 12 months before the index
-- date, _pre, and the 12 months from it, _post), from window_stays: the admissions, the cost given
-- in the extract for the stays that have one, the bed days of the stays without one by setting
-- (the query costs them at the setting's unit cost), mental health bed days, and the cost given
-- for general acute stays; and the money spent from the budget in the 12 months from the index date
-- (net of refunds; 0 for the comparison group).
-- Sources: person_windows, person_keys, window_stays, spend_lines (built before this).
with stays as (
    select
        person_key,
        sum(admissions) filter (where pre_or_post = 'pre') as admissions_pre,
        sum(admissions) filter (where pre_or_post = 'post') as admissions_post,
        sum(given_cost_gbp) filter (where pre_or_post = 'pre') as given_cost_pre,
        sum(given_cost_gbp) filter (where pre_or_post = 'post') as given_cost_post,
        sum(given_cost_gbp) filter (where pre_or_post = 'pre' and setting = 'general_acute') as acute_given_cost_pre,
        sum(given_cost_gbp) filter (where pre_or_post = 'post' and setting = 'general_acute') as acute_given_cost_post,
        sum(uncosted_bed_days) filter (where pre_or_post = 'pre' and setting = 'mental_health') as mh_uncosted_days_pre,
        sum(uncosted_bed_days) filter (where pre_or_post = 'post' and setting = 'mental_health')
            as mh_uncosted_days_post,
        sum(uncosted_bed_days) filter (where pre_or_post = 'pre' and setting = 'general_acute')
            as acute_uncosted_days_pre,
        sum(uncosted_bed_days) filter (where pre_or_post = 'post' and setting = 'general_acute')
            as acute_uncosted_days_post,
        sum(bed_days) filter (where pre_or_post = 'pre' and setting = 'mental_health') as mh_days_pre,
        sum(bed_days) filter (where pre_or_post = 'post' and setting = 'mental_health') as mh_days_post
    from window_stays
    group by person_key
),

cohort as (
    select
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
),

spend as (
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
        c.index_date,
        c.years_pre,
        c.years_post,
        cast(coalesce(t.admissions_pre, 0) as integer) as admissions_pre,
        cast(coalesce(t.admissions_post, 0) as integer) as admissions_post,
        coalesce(t.given_cost_pre, 0) as given_cost_pre,
        coalesce(t.given_cost_post, 0) as given_cost_post,
        coalesce(t.acute_given_cost_pre, 0) as acute_given_cost_pre,
        coalesce(t.acute_given_cost_post, 0) as acute_given_cost_post,
        coalesce(t.mh_uncosted_days_pre, 0) as mh_uncosted_days_pre,
        coalesce(t.mh_uncosted_days_post, 0) as mh_uncosted_days_post,
        coalesce(t.acute_uncosted_days_pre, 0) as acute_uncosted_days_pre,
        coalesce(t.acute_uncosted_days_post, 0) as acute_uncosted_days_post,
        coalesce(t.mh_days_pre, 0) as mh_days_pre,
        coalesce(t.mh_days_post, 0) as mh_days_post,
        coalesce(s.spend_post, 0) as spend_post
    from cohort as c
    left join stays as t on t.person_key = c.person_key
    left join spend as s on s.person_key = c.person_key
    order by c.person_key
)

select * from final
