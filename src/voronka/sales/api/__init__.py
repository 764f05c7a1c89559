"""Leads, pipelines, deals, products, activities, quotes and invoices over the REST API.

Every write calls the same service as the web pages, so validation, history and events do not
depend on the door a change came through. Owned records (leads, deals, activities, and the
documents of a deal) come through the sales selectors: one the caller may not see answers 404
whatever the method. Pipelines and products are shared by everyone; pipelines are changed by
administrators only (the services say so with a 403)."""

from voronka.sales.api.activities import activities
from voronka.sales.api.deals import deals
from voronka.sales.api.documents import invoices, quotes
from voronka.sales.api.leads import leads
from voronka.sales.api.pipelines import pipelines, stages
from voronka.sales.api.products import products

__all__ = ["activities", "deals", "invoices", "leads", "pipelines", "products", "quotes", "stages"]
