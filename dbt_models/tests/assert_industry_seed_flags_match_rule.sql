-- The seed's is_manufacturing / is_financial flags agree with the rule the sample
-- filter applies to the industry code (macros/industry_rules.sql), so dim_firms and
-- the seed can never tell two stories.
select industry_code, sector_letter, is_manufacturing, is_financial
from {{ ref('csrc_industries') }}
where is_manufacturing is distinct from {{ is_manufacturing_industry('industry_code') }}
   or is_financial is distinct from {{ is_financial_industry('industry_code') }}
   or sector_letter is distinct from left(industry_code, 1)
