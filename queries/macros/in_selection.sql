-- The filter rule every query applies to a chosen list (sites, management options): a value is in
-- the selection when nothing is chosen (the list is null: all of them) or the list holds it. An
-- empty list selects nothing.
-- Used as in_selection(site_code, $sites); the list is always a bound parameter.
-- The list is read as text (site codes, management options): so a null list has a type on every engine.
create macro in_selection(value, choices) as (choices is null or list_contains(choices::varchar[], value))
