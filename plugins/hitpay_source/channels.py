"""HitPay's sales channels: the raw ``channel`` values mapped to the channels people pick.

HitPay publishes no list of ``channel`` values. The raw values below are the ones seen in
HitPay's docs and its own plugins; each maps to one of the channels HitPay's Zoho Books page
offers. A value not listed here is *unknown*: the charge keeps it in ``raw_channel`` with
``channel=None``, so it is counted and shown, never dropped and never filed under a channel
the user did not pick.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["CHANNELS", "RAW_CHANNELS", "channel_for"]

CHANNELS: Mapping[str, str] = MappingProxyType(
    {
        "shopify": "Shopify",
        "wix": "Wix",
        "woocommerce": "WooCommerce",
        "prestashop": "Prestashop",
        "magento": "Magento",
        "ecwid": "Ecwid",
        "opencart": "OpenCart",
        "payment_links": "Payment Links",
        "invoice": "Invoice",
        "online_store": "Online Store",
        "point_of_sale": "Point of Sale",
        "custom_api": "Custom API",
        "recurring_billing": "Recurring Billing",
        "google_forms": "Google Forms",
        "xero": "Xero",
    }
)

RAW_CHANNELS: Mapping[str, str] = MappingProxyType(
    {
        "api_shopify": "shopify",
        "shopify": "shopify",
        "api_wix": "wix",
        "wix": "wix",
        "api_woocomm": "woocommerce",
        "api_woocommerce": "woocommerce",
        "woocommerce": "woocommerce",
        "api_prestashop": "prestashop",
        "prestashop": "prestashop",
        "api_magento": "magento",
        "magento": "magento",
        "api_ecwid": "ecwid",
        "ecwid": "ecwid",
        "api_opencart": "opencart",
        "opencart": "opencart",
        "api_link": "payment_links",
        "link_sent": "payment_links",
        "payment_link": "payment_links",
        "invoice": "invoice",
        "api_invoice": "invoice",
        "api_store": "online_store",
        "store_checkout": "online_store",
        "online_store": "online_store",
        "point_of_sale": "point_of_sale",
        "api_custom": "custom_api",
        "payment_gateway": "custom_api",
        "api_recurring_dashboard": "recurring_billing",
        "recurrent": "recurring_billing",
        "recurring_billing": "recurring_billing",
        "api_google_forms": "google_forms",
        "google_forms": "google_forms",
        "api_xero": "xero",
        "xero": "xero",
    }
)


def channel_for(raw: object) -> str | None:
    """The channel slug of a raw ``channel`` value, or None when HitPay's value is unknown."""
    if not isinstance(raw, str):
        return None
    return RAW_CHANNELS.get(raw.strip().lower())
