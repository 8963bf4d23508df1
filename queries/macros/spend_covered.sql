-- Whether a period from date_from to date_to covers all the spending in the data (the data's
-- period, spend_period, lies within it), so that each person's spending in the period is their
-- spending over the whole data, kept in spend_person_totals.
-- Used as spend_covered($date_from, $date_to) by spend_by_category and holder_spend_by_site.
create macro spend_covered(date_from, date_to) as (
    select date_from::date <= first_day and date_to::date >= last_day from spend_period
)
