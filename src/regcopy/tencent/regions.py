"""Where CCR and TCR live: registry domains by region."""

from __future__ import annotations

# CCR (Personal Edition) registry domain per region; regions not listed use the main domain.
# When the API answers with a ``Server`` field, that value wins over this table.
CCR_DOMAINS = {
    "ap-guangzhou": "ccr.ccs.tencentyun.com",
    "ap-hongkong": "hkccr.ccs.tencentyun.com",
    "ap-singapore": "sgccr.ccs.tencentyun.com",
    "ap-tokyo": "jpccr.ccs.tencentyun.com",
    "ap-seoul": "krccr.ccs.tencentyun.com",
    "ap-bangkok": "thccr.ccs.tencentyun.com",
    "ap-jakarta": "jktccr.ccs.tencentyun.com",
    "ap-mumbai": "inccr.ccs.tencentyun.com",
    "ap-taipei": "tpeccr.ccs.tencentyun.com",
    "na-siliconvalley": "uswccr.ccs.tencentyun.com",
    "na-ashburn": "useccr.ccs.tencentyun.com",
    "na-toronto": "caccr.ccs.tencentyun.com",
    "sa-saopaulo": "saoccr.ccs.tencentyun.com",
    "eu-frankfurt": "deccr.ccs.tencentyun.com",
    "ap-shanghai-fsi": "shjrccr.ccs.tencentyun.com",
    "ap-beijing-fsi": "bjjrccr.ccs.tencentyun.com",
    "ap-shenzhen-fsi": "szjrccr.ccs.tencentyun.com",
}
DEFAULT_CCR_DOMAIN = "ccr.ccs.tencentyun.com"


def ccr_domain(region: str, server: str | None = None) -> str:
    """The CCR registry host for ``region``; the API's ``Server`` field, when present, wins."""
    if server:
        return server.removeprefix("https://").removeprefix("http://").rstrip("/")
    return CCR_DOMAINS.get(region, DEFAULT_CCR_DOMAIN)


def tcr_domain(instance_name: str) -> str:
    """The public domain of a TCR Enterprise instance."""
    return f"{instance_name}.tencentcloudcr.com"
