"""The open metadata catalogue: DCAT-AP, the CKAN Action API, search, harvesting and the portal."""
