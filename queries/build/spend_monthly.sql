-- One row per site, management option, category and month of payment: spending, refunds and
-- recoveries (negative lines, kept apart), lines, and people paid.
-- Parameters: none. Sources: spend, people.
with lines as (
    select
        p.site_code,
        p.management_option,
        s.category,
        cast(date_trunc('month', s.paid_on) as date) as month,
        s.person_id,
        s.amount_gbp
    from spend as s
    inner join people as p on p.person_id = s.person_id
),

final as (
    select
        site_code,
        management_option,
        category,
        month,
        sum(amount_gbp) filter (where amount_gbp > 0) as spend_gbp,
        coalesce(sum(amount_gbp) filter (where amount_gbp < 0), 0) as refunds_gbp,
        count(*) as lines,
        count(distinct person_id) as people
    from lines
    group by all
)

select * from final
