// Dev: one zone, small SKUs, scale to a single user node. Secrets come from the environment
// (GitHub Actions secrets in CI), never from this file.
using './main.bicep'

param environmentName = 'dev'
param aksSkuTier = 'Free'
param availabilityZones = []
param systemPool = {
  vmSize: 'Standard_D2ds_v5'
  osDiskSizeGB: 64
  minCount: 1
  maxCount: 3
}
param userPool = {
  vmSize: 'Standard_D4ds_v5'
  osDiskSizeGB: 128
  minCount: 1
  maxCount: 5
}
param acrSku = 'Standard'
param zoneRedundant = false
param serviceBusSku = 'Standard'
param redisSku = 'Balanced_B0'
param redisHighAvailability = false
param redisPersistence = false
param mongoComputeTier = 'M10'
param mongoStorageSizeGb = 32
param postgresSkuName = 'Standard_B1ms'
param postgresSkuTier = 'Burstable'
param postgresStorageSizeGb = 32
param postgresBackupRetentionDays = 7
param postgresGeoRedundantBackup = false
// Cluster access (see main.bicep): CI passes its own principal; an operators' group is optional.
param pipelinePrincipalId = readEnvironmentVariable('FABRIKAM_PIPELINE_PRINCIPAL_ID', '')
param clusterAdminGroupObjectId = readEnvironmentVariable('FABRIKAM_AKS_ADMIN_GROUP_ID', '')
param logRetentionInDays = 30
param mongoAdministratorPassword = readEnvironmentVariable('FABRIKAM_MONGO_ADMIN_PASSWORD')
param djangoSecretKey = readEnvironmentVariable('FABRIKAM_DJANGO_SECRET_KEY')
