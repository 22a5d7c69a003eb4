{{/*
Where the pods of the environment run: scheduling.nodeSelector and
scheduling.tolerations, for the hub and proxy pod specs (user pods get the same
through settings.json and KubeSpawner). Include at the pod spec's indentation.
*/}}
{{- define "jupyterhub.scheduling" -}}
{{- with .Values.scheduling.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.scheduling.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
