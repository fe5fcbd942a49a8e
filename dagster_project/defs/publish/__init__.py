"""Write-audit-publish, the vintage registry and sensor, the cross-vintage diff."""
