"""The cockpit's registry of applications and showcases linked to the datasets they use (``/showcases``, and
ckanext-showcase's actions in the CKAN Action API)."""
