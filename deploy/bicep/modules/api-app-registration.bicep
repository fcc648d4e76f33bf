// The API's Microsoft Entra app registration: the audience of every token the services accept,
// the app roles a token can carry (fabrikam/apps/accounts/scopes.py), and the `internal` role for
// the workload identities that call the other services. Microsoft Graph Bicep extension
// (bicepconfig.json); the deploying principal needs Microsoft Graph Application.ReadWrite.OwnedBy
// (or .All) and AppRoleAssignment.ReadWrite.All.
extension microsoftGraphV1

@description('Tenant-wide unique key of the app registration (Graph uniqueName).')
param uniqueName string
param displayName string
@description('Application ID URI: clients ask for tokens with scope <uri>/.default.')
param identifierUri string
@description('Principal (object) ids of the managed identities granted the `internal` app role.')
param internalCallerPrincipalIds array

// `value` is the claim the API checks. Business client apps are assigned deliveries.read/write,
// back-office tools admin (users or apps), the workflow and scheduler identities internal.
var appRoles = [
  {
    value: 'deliveries.read'
    displayName: 'Read deliveries'
    description: 'Read the deliveries, packages and summaries of the business the client is registered to.'
    allowedMemberTypes: [
      'Application'
    ]
  }
  {
    value: 'deliveries.write'
    displayName: 'Request deliveries'
    description: 'Request, reschedule and cancel deliveries for the business the client is registered to.'
    allowedMemberTypes: [
      'Application'
    ]
  }
  {
    value: 'admin'
    displayName: 'Back office'
    description: 'Read and request deliveries for every business.'
    allowedMemberTypes: [
      'User'
      'Application'
    ]
  }
  {
    value: 'internal'
    displayName: 'Fabrikam services'
    description: 'The services themselves: the workflow and scheduler write deliveries, packages and drone assignments.'
    allowedMemberTypes: [
      'Application'
    ]
  }
]

resource app 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: uniqueName
  displayName: displayName
  signInAudience: 'AzureADMyOrg'
  identifierUris: [
    identifierUri
  ]
  api: {
    // v2.0 tokens: issuer https://login.microsoftonline.com/<tenant>/v2.0, `aud` the client id,
    // which is what the services validate (AUTH_ENTRA_TENANT_ID, AUTH_AUDIENCE).
    requestedAccessTokenVersion: 2
  }
  appRoles: [
    for role in appRoles: {
      id: guid(uniqueName, role.value)
      value: role.value
      displayName: role.displayName
      description: role.description
      allowedMemberTypes: role.allowedMemberTypes
      isEnabled: true
    }
  ]
}

resource servicePrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: app.appId
  // Entra issues tokens for the API only to clients assigned one of its roles.
  appRoleAssignmentRequired: true
}

resource internalCallers 'Microsoft.Graph/appRoleAssignedTo@v1.0' = [
  for principalId in internalCallerPrincipalIds: {
    resourceId: servicePrincipal.id
    appRoleId: guid(uniqueName, 'internal')
    principalId: principalId
  }
]

output clientId string = app.appId
output applicationIdUri string = identifierUri
output servicePrincipalId string = servicePrincipal.id
