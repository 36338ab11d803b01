"""Fault protection's parts: the monitor table, the monitor bank and the checks.

The component that runs them is flightsw.components.fault_protection.
"""
