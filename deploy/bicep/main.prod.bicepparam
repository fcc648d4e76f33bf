// Prod: zone redundant everywhere it is offered, larger SKUs, Premium Service Bus (private
// endpoint) and registry, Redis persistence, geo-redundant PostgreSQL backups, paid AKS tier (SLA).
using './main.bicep'

param environmentName = 'prod'
param aksSkuTier = 'Standard'
param availabilityZones = [
  '1'
  '2'
  '3'
]
// Set to the operators' and CI runners' egress ranges before the first deployment.
param apiServerAuthorizedIpRanges = []
param systemPool = {
  vmSize: 'Standard_D4ds_v5'
  osDiskSizeGB: 128
  minCount: 3
  maxCount: 5
}
param userPool = {
  vmSize: 'Standard_D8ds_v5'
  osDiskSizeGB: 128
  minCount: 3
  maxCount: 12
}
param acrSku = 'Premium'
param zoneRedundant = true
param serviceBusSku = 'Premium'
param redisSku = 'Balanced_B5'
param redisHighAvailability = true
param redisPersistence = true
param mongoComputeTier = 'M30'
param mongoStorageSizeGb = 128
param postgresSkuName = 'Standard_D4ds_v5'
param postgresSkuTier = 'GeneralPurpose'
param postgresStorageSizeGb = 128
param postgresBackupRetentionDays = 35
param postgresGeoRedundantBackup = true
// Cluster access (see main.bicep): CI passes its own principal; an operators' group is optional.
param pipelinePrincipalId = readEnvironmentVariable('FABRIKAM_PIPELINE_PRINCIPAL_ID', '')
param clusterAdminGroupObjectId = readEnvironmentVariable('FABRIKAM_AKS_ADMIN_GROUP_ID', '')
param logRetentionInDays = 90
param mongoAdministratorPassword = readEnvironmentVariable('FABRIKAM_MONGO_ADMIN_PASSWORD')
param djangoSecretKey = readEnvironmentVariable('FABRIKAM_DJANGO_SECRET_KEY')
