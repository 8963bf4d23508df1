-- Each person's spending over the whole period, by category (level 0) and over all their
-- categories (level 1): the macro spend_per_person's rows for the data's period, all sites and all
-- management options (so, every payment). The Spending page and the Overview open on the whole period,
-- and a selection that covers it (the macro spend_covered) reads these 1.3 million rows at a million
-- people instead of grouping 4.4 million person-months: spend_by_category over all sites, 200 ms
-- to 50 ms. Stored in site and person order, as spend_person_months is.
-- Parameters: $period_start, $period_end (date, the data's period). Sources: spend_person_months
-- and spend_lines through the macro spend_per_person.
select *
from spend_per_person($period_start, $period_end, null, null, true)
order by site_code, person_key, level, category
