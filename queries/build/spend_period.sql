-- The data's period (the first and last date of any referral, budget, payment or admission): one
-- row. Every payment lies within it, so a selection whose dates cover it covers all the spending
-- (the macro spend_covered) and can read each person's sums from spend_person_totals.
-- Parameters: $period_start, $period_end (date). Sources: none.
select
    $period_start::date as first_day,
    $period_end::date as last_day
