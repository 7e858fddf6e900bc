"""The Tencent Cloud adapter: CCR inventory, TCR provisioning and the migrate workflow."""
